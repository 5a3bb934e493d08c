{% macro stg_collector_uptime(source_table) -%}
{{ levstress.stg_dataset(source_table, [
    ('exchange', 'exchange', 'string', 'lower'),
    ('connected_from', 'connected_from', 'timestamp', none),
    ('connected_until', 'connected_until', 'timestamp', none),
    ('ended_by', 'ended_by', 'string', none),
], ['exchange', 'connected_from']) }}
{%- endmacro %}
