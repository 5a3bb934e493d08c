{% macro stg_market_caps(source_table) -%}
{#- partition_date is the UTC day whose close the snapshot is (observed_at = next 00:00). -#}
{%- set renamed -%}
    select
        lower(cast(coin_id as {{ dbt.type_string() }})) as coin_id,
        upper(cast(symbol as {{ dbt.type_string() }})) as symbol,
        cast(observed_at as {{ dbt.type_timestamp() }}) as observed_at,
        cast(market_cap_usd as {{ levstress.type_double() }}) as market_cap_usd,
        cast(price_usd as {{ levstress.type_double() }}) as price_usd,
        cast(volume_usd as {{ levstress.type_double() }}) as volume_usd,
        cast(partition_date as date) as partition_date,
        cast(payload_ref as {{ dbt.type_string() }}) as payload_ref
    from {{ source('raw', source_table) }}
{%- endset -%}
{{ levstress.stg_dedupe(
    renamed,
    ['partition_date', 'coin_id', 'observed_at'],
    ['coin_id', 'symbol', 'observed_at', 'market_cap_usd', 'price_usd', 'volume_usd', 'partition_date', 'payload_ref']
) }}
{%- endmacro %}
