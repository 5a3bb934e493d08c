{#-
  Dense hourly liquidation series: every hour of every exchange-day that has liquidation data
  (any asset, any source), for every tracked asset, with 0 where nothing was liquidated.
  Zero hours matter: the spike statistics compare an hour with a trailing window that must
  include quiet hours. An exchange-day with no rows at all is treated as missing (not as zero),
  so a lost partition shows up as a gap instead of a fake calm day.
-#}
-- the upstream view is read twice on purpose: a CTE used twice gets materialised and date
-- filters on this view would no longer reach the raw tables
with exchange_days as (
    select
        exchange,
        partition_date,
        min(source_kind) as source_kind
    from {{ ref('int_liquidations_bucketed_to_hour') }}
    group by 1, 2
),

assets as (
    {{ levstress.values_relation(var('tracked_assets'), 'asset') }}
),

hours as (
    {{ levstress.values_relation(range(24) | list, 'hour_offset') }}
),

spine as (
    select
        d.exchange,
        a.asset,
        d.partition_date,
        d.source_kind,
        {{ dbt.dateadd('hour', 'h.hour_offset', 'cast(d.partition_date as ' ~ dbt.type_timestamp() ~ ')') }} as hour_start
    from exchange_days as d
    cross join assets as a
    cross join hours as h
)

select
    s.exchange,
    s.asset,
    s.partition_date,
    s.hour_start,
    s.source_kind,
    coalesce(h.long_liquidations_usd, 0) as long_liquidations_usd,
    coalesce(h.short_liquidations_usd, 0) as short_liquidations_usd,
    coalesce(h.long_liquidations_usd, 0) + coalesce(h.short_liquidations_usd, 0) as total_liquidations_usd
from spine as s
left join {{ ref('int_liquidations_bucketed_to_hour') }} as h
    on h.exchange = s.exchange
    and h.asset = s.asset
    and h.partition_date = s.partition_date  -- implied by hour_start; lets date filters reach both sides
    and h.hour_start = s.hour_start
