{% macro stg_candles(source_table) -%}
{%- set renamed -%}
    select
        lower(cast(exchange as {{ dbt.type_string() }})) as exchange,
        upper(cast(asset as {{ dbt.type_string() }})) as asset,
        cast(symbol as {{ dbt.type_string() }}) as symbol,
        cast(open_time as {{ dbt.type_timestamp() }}) as open_time,
        cast(interval_minutes as integer) as interval_minutes,
        cast(open as {{ levstress.type_double() }}) as open_price,
        cast(high as {{ levstress.type_double() }}) as high_price,
        cast(low as {{ levstress.type_double() }}) as low_price,
        cast(close as {{ levstress.type_double() }}) as close_price,
        cast(volume_coins as {{ levstress.type_double() }}) as volume_coins,
        cast(partition_date as date) as partition_date,
        cast(payload_ref as {{ dbt.type_string() }}) as payload_ref
    from {{ source('raw', source_table) }}
{%- endset -%}
{{ levstress.stg_dedupe(
    renamed,
    ['partition_date', 'exchange', 'symbol', 'open_time', 'interval_minutes'],
    ['exchange', 'asset', 'symbol', 'open_time', 'interval_minutes', 'open_price', 'high_price', 'low_price', 'close_price', 'volume_coins', 'partition_date', 'payload_ref']
) }}
{%- endmacro %}
