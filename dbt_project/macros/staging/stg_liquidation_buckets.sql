{% macro stg_liquidation_buckets(source_table) -%}
{%- set renamed -%}
    select
        lower(cast(exchange as {{ dbt.type_string() }})) as exchange,
        upper(cast(asset as {{ dbt.type_string() }})) as asset,
        cast(symbol as {{ dbt.type_string() }}) as symbol,
        cast(bucket_start as {{ dbt.type_timestamp() }}) as bucket_start,
        cast(bucket_minutes as integer) as bucket_minutes,
        cast(long_usd as {{ levstress.type_double() }}) as long_usd,
        cast(short_usd as {{ levstress.type_double() }}) as short_usd,
        cast(partition_date as date) as partition_date,
        cast(payload_ref as {{ dbt.type_string() }}) as payload_ref
    from {{ source('raw', source_table) }}
{%- endset -%}
{{ levstress.stg_dedupe(
    renamed,
    ['partition_date', 'exchange', 'symbol', 'bucket_start'],
    ['exchange', 'asset', 'symbol', 'bucket_start', 'bucket_minutes', 'long_usd', 'short_usd', 'partition_date', 'payload_ref']
) }}
{%- endmacro %}
