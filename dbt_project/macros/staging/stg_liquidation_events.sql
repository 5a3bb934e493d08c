{% macro stg_liquidation_events(source_table) -%}
{{ levstress.stg_dataset(source_table, levstress.stg_venue_columns() + [
    ('event_time', 'event_time', 'timestamp', none), ('side', 'side', 'string', 'lower'),
    ('price', 'price', 'double', none), ('quantity', 'quantity', 'double', none),
    ('usd_value', 'usd_value', 'double', none),
], ['exchange', 'symbol', 'event_time', 'side', 'price', 'quantity']) }}
{%- endmacro %}
