{#-
  The dbt side's source registry: every staging model the marts read, generated from
  ingestion/registry.py into macros/registered_sources.sql (`python -m orchestration.dbt_codegen`,
  run by `make setup`). Each entry:
    model    : the staging model
    dataset  : its dataset (ingestion/schemas.py)
    whole    : the level of a day with every expected point (complete | throttled | estimate), or
               none when coverage is not graded - see macros/coverage_sources.sql
    sparse   : the source leaves out periods with nothing in them (fewer points is not a gap)
    collector: a collector tape; its days are graded on the collector's uptime too
    fill     : a catch-up source, used for an exchange-day only when that venue's own tape is partial
    table    : its raw table; source: the source module it comes from (its rank in the registry)
  Adding a source to the marts = its module in ingestion/sources and one line in the registry.
-#}
{% macro source_models(dataset=none) -%}
{%- set models = levstress.registered_sources() -%}
{{ return(models if dataset is none else models | selectattr('dataset', 'equalto', dataset) | list) }}
{%- endmacro %}

{#- The staging model names of one dataset, for the intermediate unions. -#}
{% macro source_model_names(dataset) -%}
{{ return(levstress.source_models(dataset) | map(attribute='model') | list) }}
{%- endmacro %}

{#-
  Which source an exchange-day's liquidations come from, lowest first: the venue's own event tape
  (1), an aggregator that is the venue's only source (2), a catch-up fill (3). A collector tape
  whose collector was away too long that day drops below the fill (4): see
  int_liquidations_bucketed_to_hour and fct_source_coverage_daily, which both apply this.
-#}
{% macro source_priority(entry) -%}
{{ return(1 if entry.dataset == 'liquidation_events' else (3 if entry.fill else 2)) }}
{%- endmacro %}

{#-
  Every source of an hourly dataset unioned, keeping for each exchange, asset and hour only the
  rows of the first registered source that has that hour (a source's endpoints rank alike): a venue's live endpoint before its data
  archive (ingestion/registry.py lists the archive last), so no hour is counted twice. The day is
  a partition key too (an hour lies in one day), so a filter on partition_date still reaches the
  sources through the window. time_column: the rows' time (observed_at, a candle's open_time).
-#}
{% macro first_source_per_hour(dataset, columns, time_column='observed_at') -%}
{%- set listed = columns | join(', ') -%}
{%- set sources = levstress.registered_sources() | map(attribute='source') | unique | list -%}
select {{ listed }}
from (
    select
        {{ listed }},
        source_rank,
        min(source_rank) over (
            partition by exchange, asset, partition_date, {{ dbt.date_trunc('hour', time_column) }}
        ) as first_rank
    from (
        {%- for entry in levstress.source_models(dataset) %}
        select {{ listed }}, {{ sources.index(entry.source) }} as source_rank
        from {{ ref(entry.model) }}
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ) as unioned
) as ranked
where source_rank = first_rank
{%- endmacro %}
