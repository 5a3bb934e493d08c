{#-
  Liquidations of every source summed into UTC hours per exchange and asset.

  The sources are listed in macros/source_models.sql. When an exchange-day has rows from more
  than one source, only the one first in levstress.source_priority is kept, so an aggregator never
  double counts a venue whose own tape we collect; a collector tape whose collector was away that
  day (int_collector_downtime_daily) gives way to a catch-up fill when there is one. Buckets
  longer than an hour cannot be split into hours and are left out.
-#}
with events_hourly as (
    {% for entry in levstress.source_models('liquidation_events') %}
    select
        e.exchange,
        e.asset,
        e.partition_date,
        {{ dbt.date_trunc('hour', 'e.event_time') }} as hour_start,
        'event_tape' as source_kind,
        {% if entry.collector -%}
        max(case when d.is_partial then 4 else {{ levstress.source_priority(entry) }} end) as source_priority,
        {%- else -%}
        {{ levstress.source_priority(entry) }} as source_priority,
        {%- endif %}
        sum(case when e.side = 'long' then e.usd_value else 0 end) as long_liquidations_usd,
        sum(case when e.side = 'short' then e.usd_value else 0 end) as short_liquidations_usd
    from {{ ref(entry.model) }} as e
    {% if entry.collector -%}
    left join {{ ref('int_collector_downtime_daily') }} as d
        on d.exchange = e.exchange
        and d.partition_date = e.partition_date
    {%- endif %}
    group by 1, 2, 3, 4
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

buckets_hourly as (
    {% for entry in levstress.source_models('liquidation_buckets') %}
    select
        exchange,
        asset,
        partition_date,
        {{ dbt.date_trunc('hour', 'bucket_start') }} as hour_start,
        'aggregator' as source_kind,
        {{ levstress.source_priority(entry) }} as source_priority,
        sum(long_usd) as long_liquidations_usd,
        sum(short_usd) as short_liquidations_usd
    from {{ ref(entry.model) }}
    where bucket_minutes <= 60
      and mod(60, bucket_minutes) = 0
    group by 1, 2, 3, 4
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

all_hourly as (
    select * from events_hourly
    union all
    select * from buckets_hourly
),

best_source as (
    select
        exchange,
        partition_date,
        min(source_priority) as source_priority
    from all_hourly
    group by 1, 2
)

select
    h.exchange,
    h.asset,
    h.partition_date,
    h.hour_start,
    h.source_kind,
    sum(h.long_liquidations_usd) as long_liquidations_usd,
    sum(h.short_liquidations_usd) as short_liquidations_usd
from all_hourly as h
inner join best_source as b
    on b.exchange = h.exchange
    and b.partition_date = h.partition_date
    and b.source_priority = h.source_priority
where h.asset in {{ levstress.sql_list(var('tracked_assets')) }}
group by 1, 2, 3, 4, 5
