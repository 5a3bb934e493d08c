{% macro stg_volatility_index(source_table) -%}
{%- set renamed -%}
    select
        upper(cast(currency as {{ dbt.type_string() }})) as asset,
        cast(open_time as {{ dbt.type_timestamp() }}) as open_time,
        cast(interval_minutes as integer) as interval_minutes,
        cast(open as {{ levstress.type_double() }}) as open_value,
        cast(high as {{ levstress.type_double() }}) as high_value,
        cast(low as {{ levstress.type_double() }}) as low_value,
        cast(close as {{ levstress.type_double() }}) as close_value,
        cast(partition_date as date) as partition_date,
        cast(payload_ref as {{ dbt.type_string() }}) as payload_ref
    from {{ source('raw', source_table) }}
{%- endset -%}
{{ levstress.stg_dedupe(
    renamed,
    ['partition_date', 'asset', 'open_time', 'interval_minutes'],
    ['asset', 'open_time', 'interval_minutes', 'open_value', 'high_value', 'low_value', 'close_value', 'partition_date', 'payload_ref']
) }}
{%- endmacro %}
