{% macro stg_fetch_outcomes() -%}
select
    cast(source_table as {{ dbt.type_string() }}) as source_table,
    cast(partition_date as date) as partition_date,
    cast(source as {{ dbt.type_string() }}) as source,
    cast(endpoint as {{ dbt.type_string() }}) as endpoint,
    cast(status as {{ dbt.type_string() }}) as status,
    cast(reason as {{ dbt.type_string() }}) as reason,
    cast(attempts as integer) as attempts,
    cast(rows_loaded as bigint) as rows_loaded,
    cast(rows_rejected as bigint) as rows_rejected,
    cast(recorded_at as {{ dbt.type_timestamp() }}) as recorded_at
from {{ source('raw', 'fetch_outcomes') }}
{%- endmacro %}
