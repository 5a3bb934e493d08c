{#-
  The sources coverage is graded on (fct_source_coverage_daily), from macros/source_models.sql.
  Each entry:
    dataset : liquidations | funding | open_interest | prices
    time    : the column that places a point in time
    interval: minutes between two points of a regular series (SQL over the model's columns);
              none for an event tape, where the number of points says nothing about coverage
    sparse  : the source leaves out periods with nothing in them (events, Coinalyze buckets),
              so fewer points than periods is not a gap
    whole   : the level of a day with every expected point: complete (the venue's full record),
              throttled (a capped or sampled feed), estimate (an aggregator's figure)
    collector, priority: see macros/source_models.sql
-#}
{% macro coverage_sources() -%}
{%- set sources = [] -%}
{%- for entry in levstress.source_models() if entry.coverage is not none -%}
    {%- set dataset, time, interval, sparse, whole = entry.coverage -%}
    {%- do sources.append({'model': entry.model, 'dataset': dataset, 'time': time, 'interval': interval,
                           'sparse': sparse, 'whole': whole, 'collector': entry.get('collector', false),
                           'priority': levstress.source_priority(entry)}) -%}
{%- endfor -%}
{{ return(sources) }}
{%- endmacro %}
