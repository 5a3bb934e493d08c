{% macro stg_liquidation_events(source_table) -%}
{%- set renamed -%}
    select
        lower(cast(exchange as {{ dbt.type_string() }})) as exchange,
        upper(cast(asset as {{ dbt.type_string() }})) as asset,
        cast(symbol as {{ dbt.type_string() }}) as symbol,
        cast(event_time as {{ dbt.type_timestamp() }}) as event_time,
        lower(cast(side as {{ dbt.type_string() }})) as side,
        cast(price as {{ levstress.type_double() }}) as price,
        cast(quantity as {{ levstress.type_double() }}) as quantity,
        cast(usd_value as {{ levstress.type_double() }}) as usd_value,
        cast(partition_date as date) as partition_date,
        cast(payload_ref as {{ dbt.type_string() }}) as payload_ref
    from {{ source('raw', source_table) }}
{%- endset -%}
{{ levstress.stg_dedupe(
    renamed,
    ['partition_date', 'exchange', 'symbol', 'event_time', 'side', 'price', 'quantity'],
    ['exchange', 'asset', 'symbol', 'event_time', 'side', 'price', 'quantity', 'usd_value', 'partition_date', 'payload_ref']
) }}
{%- endmacro %}
