{% macro stg_funding_rates(source_table) -%}
{{ levstress.stg_dataset(source_table, levstress.stg_venue_columns() + [
    ('funding_time', 'funding_time', 'timestamp', none), ('funding_rate', 'funding_rate', 'double', none),
    ('interval_hours', 'interval_hours', 'double', none),
], ['exchange', 'symbol', 'funding_time']) }}
{%- endmacro %}
