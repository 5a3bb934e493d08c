{% macro stg_funding_rates(source_table) -%}
{%- set renamed -%}
    select
        lower(cast(exchange as {{ dbt.type_string() }})) as exchange,
        upper(cast(asset as {{ dbt.type_string() }})) as asset,
        cast(symbol as {{ dbt.type_string() }}) as symbol,
        cast(funding_time as {{ dbt.type_timestamp() }}) as funding_time,
        cast(funding_rate as {{ levstress.type_double() }}) as funding_rate,
        cast(interval_hours as {{ levstress.type_double() }}) as interval_hours,
        cast(partition_date as date) as partition_date,
        cast(payload_ref as {{ dbt.type_string() }}) as payload_ref
    from {{ source('raw', source_table) }}
{%- endset -%}
{{ levstress.stg_dedupe(
    renamed,
    ['partition_date', 'exchange', 'symbol', 'funding_time'],
    ['exchange', 'asset', 'symbol', 'funding_time', 'funding_rate', 'interval_hours', 'partition_date', 'payload_ref']
) }}
{%- endmacro %}
