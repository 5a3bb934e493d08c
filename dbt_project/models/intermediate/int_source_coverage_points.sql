{#-
  Every point (event, bucket, settlement, candle) of every source listed in
  macros/coverage_sources.sql, with what a whole day of that source is worth. Feeds
  fct_source_coverage_daily.
-#}
{% for s in levstress.coverage_sources() %}
select
    '{{ s.dataset }}' as dataset,
    '{{ s.model | replace("stg_", "") | replace("__", "_") }}' as source,
    '{{ s.whole }}' as level_when_whole,
    {{ 'true' if s.sparse else 'false' }} as is_sparse,
    {{ 'true' if s.collector else 'false' }} as is_collector_tape,
    {{ s.priority }} as source_priority,
    exchange,
    asset,
    partition_date,
    {{ s.time }} as point_time,
    {{ 'cast(null as integer)' if s.interval is none else 'cast(' ~ s.interval ~ ' as integer)' }} as interval_minutes
from {{ ref(s.model) }}
where asset in {{ levstress.sql_list(var('tracked_assets')) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
