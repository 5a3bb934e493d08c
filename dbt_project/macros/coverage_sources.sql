{#-
  The sources coverage is graded on (fct_source_coverage_daily): the entries of
  macros/source_models.sql with a `whole` level. What a point is depends on the dataset:
    coverage dataset: liquidations | funding | open_interest | prices
    time            : the column that places a point in time
    interval        : minutes between two points of a regular series (SQL over the model's
                      columns); none for an event tape, where the number of points says nothing
-#}
{% macro coverage_sources() -%}
{%- set by_dataset = {
    'liquidation_events': ('liquidations', 'event_time', none),
    'liquidation_buckets': ('liquidations', 'bucket_start', 'bucket_minutes'),
    'funding_rates': ('funding', 'funding_time', 'interval_hours * 60'),
    'open_interest': ('open_interest', 'observed_at', '60'),
    'candles': ('prices', 'open_time', 'interval_minutes'),
} -%}
{%- set sources = [] -%}
{%- for entry in levstress.source_models() if entry.whole is not none -%}
    {%- set dataset, time, interval = by_dataset[entry.dataset] -%}
    {%- do sources.append({'model': entry.model, 'dataset': dataset, 'time': time, 'interval': interval,
                           'sparse': entry.sparse, 'whole': entry.whole, 'collector': entry.collector,
                           'priority': levstress.source_priority(entry), 'table': entry.table,
                           'exchanges': entry.exchanges, 'fill': entry.fill}) -%}
{%- endfor -%}
{{ return(sources) }}
{%- endmacro %}
