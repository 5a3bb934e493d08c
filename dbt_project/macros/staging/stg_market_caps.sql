{% macro stg_market_caps(source_table) -%}
{#- partition_date is the UTC day whose close the snapshot is (observed_at = next 00:00). -#}
{{ levstress.stg_dataset(source_table, [
    ('coin_id', 'coin_id', 'string', 'lower'), ('symbol', 'symbol', 'string', 'upper'),
    ('observed_at', 'observed_at', 'timestamp', none),
    ('market_cap_usd', 'market_cap_usd', 'double', none), ('price_usd', 'price_usd', 'double', none),
    ('volume_usd', 'volume_usd', 'double', none),
], ['coin_id', 'observed_at']) }}
{%- endmacro %}
