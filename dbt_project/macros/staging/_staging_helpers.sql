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
