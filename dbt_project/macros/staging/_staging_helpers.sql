{#-
  One staging macro per dataset (see ingestion/schemas.py). A staging model is one line:
      {{ stg_funding_rates('binance_funding') }}
  so a new source of a known dataset needs only its source entry, that line and its yml.

  Staging only renames, casts and deduplicates on the dataset's natural key (the same event can
  arrive twice, e.g. OKX replays recent liquidations on reconnect). partition_date is part of
  every dedupe key: ingestion guarantees event timestamps inside the partition's UTC day, and
  keying by it lets filters on partition_date reach the raw table.
-#}
{% macro stg_dedupe(relation_sql, key_columns, output_columns) -%}
with renamed as (
    {{ relation_sql }}
),

deduped as (
    select
        *,
        row_number() over (
            partition by {{ key_columns | join(', ') }}
            order by payload_ref desc
        ) as dedupe_rank
    from renamed
)

select
    {{ output_columns | join(',\n    ') }}
from deduped
where dedupe_rank = 1
{%- endmacro %}

{#-
  The body every dataset macro shares. ``columns``: (raw column, staged name, type, case) with
  type in string | timestamp | double | integer and case in lower | upper | none; ``key``: the
  natural key (partition_date is added).
-#}
{% macro stg_dataset(source_table, columns, key) -%}
{%- set types = {
    'string': dbt.type_string(),
    'timestamp': dbt.type_timestamp(),
    'double': levstress.type_double(),
    'integer': 'integer',
} -%}
{%- set renamed -%}
    select
    {%- for raw_name, name, type, case in columns %}
        {% if case %}{{ case }}({% endif %}cast({{ raw_name }} as {{ types[type] }}){% if case %}){% endif %} as {{ name }},
    {%- endfor %}
        cast(partition_date as date) as partition_date,
        cast(payload_ref as {{ dbt.type_string() }}) as payload_ref
    from {{ source('raw', source_table) }}
{%- endset -%}
{{ levstress.stg_dedupe(
    renamed,
    ['partition_date'] + key,
    columns | map(attribute=1) | list + ['partition_date', 'payload_ref']
) }}
{%- endmacro %}

{#- Who and what every venue row is about: exchange, asset, symbol. -#}
{% macro stg_venue_columns() -%}
{%- do return([
    ('exchange', 'exchange', 'string', 'lower'),
    ('asset', 'asset', 'string', 'upper'),
    ('symbol', 'symbol', 'string', none),
]) -%}
{%- endmacro %}
