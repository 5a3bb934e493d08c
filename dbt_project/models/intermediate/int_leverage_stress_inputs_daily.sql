{#-
  One row per (date, tracked asset) with the daily inputs of the leverage-stress mart, all
  exchanges together. A (date, asset) exists when any input has it.
    * liquidations: sums over exchanges (fct_liquidation_imbalance_daily)
    * open_interest_usd: sum of the exchanges' end-of-day open interest
    * oi_change_pct_1d: like for like, over the exchanges that have both today and yesterday
      (a venue dropping out for a day does not read as deleveraging)
    * funding_rate_8h: open-interest-weighted mean over exchanges with funding and OI that day
    * price_close / price_range_pct: hourly reference candles (int_prices_daily)
    * dvol_close: Deribit DVOL (BTC, ETH only)
    * account_long_short_ratio: mean over the exchanges with positioning data of the day's mean
      account long/short ratio (fct_positioning_daily)
-#}

with liquidations as (
    select
        date,
        asset,
        sum(long_liquidations_usd) as long_liquidations_usd,
        sum(short_liquidations_usd) as short_liquidations_usd,
        sum(total_liquidations_usd) as total_liquidations_usd,
        sum(case when coverage_level = 'complete' then total_liquidations_usd else 0 end) as complete_liquidations_usd
    from {{ ref('fct_liquidation_imbalance_daily') }}
    group by 1, 2
),

open_interest as (
    select date, exchange, asset, open_interest_usd
    from {{ ref('fct_open_interest_daily') }}
),

open_interest_totals as (
    select
        today.date,
        today.asset,
        sum(today.open_interest_usd) as open_interest_usd,
        sum(case when yesterday.open_interest_usd is not null then today.open_interest_usd end) as matched_today_usd,
        sum(yesterday.open_interest_usd) as matched_yesterday_usd
    from open_interest as today
    left join open_interest as yesterday
        on yesterday.exchange = today.exchange
        and yesterday.asset = today.asset
        and yesterday.date = {{ dbt.dateadd('day', -1, 'today.date') }}
    group by 1, 2
),

funding as (
    select
        f.date,
        f.asset,
        {{ levstress.safe_divide('sum(f.funding_rate_8h * o.open_interest_usd)', 'sum(o.open_interest_usd)') }} as funding_rate_8h
    from {{ ref('fct_funding_daily') }} as f
    inner join open_interest as o
        on o.date = f.date
        and o.exchange = f.exchange
        and o.asset = f.asset
    where o.open_interest_usd > 0
    group by 1, 2
),

prices as (
    select date, asset, price_close, price_range_pct
    from {{ ref('int_prices_daily') }}
),

volatility as (
    select date, asset, dvol_close
    from {{ ref('int_volatility_daily') }}
),

positioning as (
    select date, asset, avg(account_ratio_mean) as account_long_short_ratio
    from {{ ref('fct_positioning_daily') }}
    group by 1, 2
),

keys as (
    select date, asset from liquidations
    union
    select date, asset from open_interest_totals
    union
    select date, asset from prices
    union
    select date, asset from funding
)

select
    k.date,
    k.asset,
    l.long_liquidations_usd,
    l.short_liquidations_usd,
    l.total_liquidations_usd,
    {{ levstress.safe_divide('l.long_liquidations_usd', 'l.total_liquidations_usd') }} as long_share,
    {{ levstress.safe_divide('l.complete_liquidations_usd', 'l.total_liquidations_usd') }} as complete_exchange_share,
    f.funding_rate_8h,
    o.open_interest_usd,
    100 * ({{ levstress.safe_divide('o.matched_today_usd', 'o.matched_yesterday_usd') }} - 1) as oi_change_pct_1d,
    p.price_close,
    p.price_range_pct,
    {{ levstress.safe_divide('l.total_liquidations_usd', 'o.open_interest_usd') }} as liquidations_to_oi,
    v.dvol_close,
    ps.account_long_short_ratio
from keys as k
left join liquidations as l on l.date = k.date and l.asset = k.asset
left join open_interest_totals as o on o.date = k.date and o.asset = k.asset
left join funding as f on f.date = k.date and f.asset = k.asset
left join prices as p on p.date = k.date and p.asset = k.asset
left join volatility as v on v.date = k.date and v.asset = k.asset
left join positioning as ps on ps.date = k.date and ps.asset = k.asset
where k.asset in {{ levstress.sql_list(var('tracked_assets')) }}
