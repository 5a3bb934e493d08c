{#-
  Liquidations of every source summed into UTC hours per exchange and asset.

  The sources are listed in macros/liquidation_sources.sql. When an exchange-day has rows from
  both kinds, only the highest-priority kind is kept, so an aggregator never double counts a
  venue whose own tape we collect. Buckets longer than an hour cannot be split into hours and
  are left out.
-#}
{%- set event_models = levstress.liquidation_event_models() -%}
{%- set bucket_models = levstress.liquidation_bucket_models() -%}

with events_hourly as (
    {% for model in event_models %}
    select
        exchange,
        asset,
        partition_date,
        {{ dbt.date_trunc('hour', 'event_time') }} as hour_start,
        'event_tape' as source_kind,
        1 as source_priority,
        sum(case when side = 'long' then usd_value else 0 end) as long_liquidations_usd,
        sum(case when side = 'short' then usd_value else 0 end) as short_liquidations_usd
    from {{ ref(model) }}
    group by 1, 2, 3, 4
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

buckets_hourly as (
    {% for model in bucket_models %}
    select
        exchange,
        asset,
        partition_date,
        {{ dbt.date_trunc('hour', 'bucket_start') }} as hour_start,
        'aggregator' as source_kind,
        2 as source_priority,
        sum(long_usd) as long_liquidations_usd,
        sum(short_usd) as short_liquidations_usd
    from {{ ref(model) }}
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
