{% macro stg_open_interest(source_table) -%}
{%- set renamed -%}
    select
        lower(cast(exchange as {{ dbt.type_string() }})) as exchange,
        upper(cast(asset as {{ dbt.type_string() }})) as asset,
        cast(symbol as {{ dbt.type_string() }}) as symbol,
        cast(observed_at as {{ dbt.type_timestamp() }}) as observed_at,
        cast(open_interest_coins as {{ levstress.type_double() }}) as open_interest_coins,
        cast(open_interest_usd as {{ levstress.type_double() }}) as open_interest_usd,
        cast(partition_date as date) as partition_date,
        cast(payload_ref as {{ dbt.type_string() }}) as payload_ref
    from {{ source('raw', source_table) }}
{%- endset -%}
{{ levstress.stg_dedupe(
    renamed,
    ['partition_date', 'exchange', 'symbol', 'observed_at'],
    ['exchange', 'asset', 'symbol', 'observed_at', 'open_interest_coins', 'open_interest_usd', 'partition_date', 'payload_ref']
) }}
{%- endmacro %}
