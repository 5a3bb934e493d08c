{% macro stg_liquidation_buckets(source_table) -%}
{{ levstress.stg_dataset(source_table, levstress.stg_venue_columns() + [
    ('bucket_start', 'bucket_start', 'timestamp', none), ('bucket_minutes', 'bucket_minutes', 'integer', none),
    ('long_usd', 'long_usd', 'double', none), ('short_usd', 'short_usd', 'double', none),
], ['exchange', 'symbol', 'bucket_start']) }}
{%- endmacro %}
