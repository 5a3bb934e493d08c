{{ config(unique_key='date') }}
{#-
  Where the leveraged positions still open would be liquidated, as of each day's close: an
  estimate, per asset over all venues, in price bands of cluster_band_pct % of the day's close
  (docs/methodology.md, "Estimated liquidation levels"). The model:
    1. Open interest added in an hour (a venue's coins above the hour before, at the hour's
       reference close) is positions opened at that close; a fall opens nothing.
    2. Each new contract has a leveraged side: long with the venue's account long share of the
       hour (ratio / (1 + ratio)), else its taker buy share, else half (the other side is taken
       as market makers, who are not liquidated).
    3. It is spread over the leverage tiers of var liq_map_leverage_tiers (leverage: weight);
       a tier's liquidation price (isolated margin, linear contract, maintenance margin rate
       var liq_map_maintenance_margin_rate): long entry x (1 - 1/L) / (1 - mmr), short entry x
       (1 + 1/L) / (1 + mmr).
    4. Removed when the price crosses it: a long once an hourly low after its opening hour
       reaches its price (a short, a high); and as the venue's open interest falls: every hour
       the venue's open interest is below the hour before, its positions opened earlier shrink
       by the same ratio.
    5. Positions of the last liq_map_lookback_days days count; older ones are dropped.
  Flags: the nearest band below the close whose longs are at least liq_map_large_share of the
  day's mapped longs (the next flush if the price falls), and likewise above for shorts.
-#}
{%- set lookback = var('liq_map_lookback_days') | int -%}
{%- set tiers = var('liq_map_leverage_tiers') -%}
{%- set mmr = var('liq_map_maintenance_margin_rate') -%}
{%- set double = levstress.type_double() -%}

with prices as (
    select asset, partition_date, hour_start, high_price, low_price, close_price
    from {{ ref('int_prices_hourly') }}
    where {{ levstress.input_window('partition_date', lookback + 1) }}
),

open_interest as (
    select
        o.exchange,
        o.asset,
        p.hour_start,
        coalesce(o.open_interest_coins, o.open_interest_usd / p.close_price) as coins
    from {{ ref('int_open_interest_hourly') }} as o
    inner join prices as p
        on p.asset = o.asset
        and p.hour_start = o.observed_at
    where {{ levstress.input_window('o.partition_date', lookback + 1) }}
),

changes as (
    select
        *,
        coins - lag(coins) over (partition by exchange, asset order by hour_start) as added_coins,
        {#- the hour's survival ratio of earlier positions, as a log so a window can sum it -#}
        ln(greatest(least(coins / nullif(lag(coins) over (partition by exchange, asset order by hour_start), 0), 1), 1e-12))
            as log_kept
    from open_interest
),

positioning as (
    select exchange, asset, hour_start, account_ratio, taker_buy_sell_ratio
    from {{ ref('int_positioning_hourly') }}
    where {{ levstress.input_window('partition_date', lookback + 1) }}
),

opened as (
    select
        c.exchange,
        c.asset,
        c.hour_start,
        p.close_price as entry_price,
        c.added_coins * p.close_price as added_usd,
        coalesce(
            s.account_ratio / (1 + s.account_ratio),
            s.taker_buy_sell_ratio / (1 + s.taker_buy_sell_ratio),
            0.5
        ) as long_share
    from changes as c
    inner join prices as p
        on p.asset = c.asset
        and p.hour_start = c.hour_start
    left join positioning as s
        on s.exchange = c.exchange
        and s.asset = c.asset
        and s.hour_start = c.hour_start
    where c.added_coins > 0
),

as_of as (
    select asset, partition_date as date, max(hour_start) as last_hour
    from prices
    where {{ levstress.output_window('partition_date') }}
    group by 1, 2
),

-- per day and hour of its look-back: the lowest low and highest high after the hour, up to the close
paths as (
    select
        a.date,
        p.asset,
        p.hour_start,
        min(p.low_price) over (
            partition by a.date, p.asset order by p.hour_start rows between 1 following and unbounded following
        ) as low_after,
        max(p.high_price) over (
            partition by a.date, p.asset order by p.hour_start rows between 1 following and unbounded following
        ) as high_after
    from as_of as a
    inner join prices as p
        on p.asset = a.asset
        and p.hour_start > {{ dbt.dateadd('day', -lookback, 'a.last_hour') }}
        and p.hour_start <= a.last_hour
),

-- per day, venue and hour: the share of the hour's new positions the later falls in open interest left
kept as (
    select
        a.date,
        c.exchange,
        c.asset,
        c.hour_start,
        exp(coalesce(sum(c.log_kept) over (
            partition by a.date, c.exchange, c.asset order by c.hour_start
            rows between 1 following and unbounded following
        ), 0)) as kept_share
    from as_of as a
    inner join changes as c
        on c.asset = a.asset
        and c.hour_start > {{ dbt.dateadd('day', -lookback, 'a.last_hour') }}
        and c.hour_start <= a.last_hour
),

open_positions as (
    select
        k.date,
        o.asset,
        o.hour_start,
        o.entry_price,
        sum(o.added_usd * o.long_share * k.kept_share) as long_usd,
        sum(o.added_usd * (1 - o.long_share) * k.kept_share) as short_usd
    from opened as o
    inner join kept as k
        on k.exchange = o.exchange
        and k.asset = o.asset
        and k.hour_start = o.hour_start
    group by 1, 2, 3, 4
),

tiers as (
    {%- for leverage, weight in tiers.items() %}
    select
        cast({{ leverage }} as {{ double }}) as leverage,
        cast({{ weight }} as {{ double }}) as weight{% if not loop.last %} union all{% endif %}
    {%- endfor %}
),

{#- side: (name, sign of 1/L and mmr in the price, the path extreme that crosses it, how) -#}
{%- set sides = [('long', -1, 'low_after', '>'), ('short', 1, 'high_after', '<')] %}

levels as (
    {%- for side, sign, extreme, alive in sides %}
    select
        o.date,
        o.asset,
        '{{ side }}' as side,
        o.entry_price * (1 + {{ sign }} / t.leverage) / (1 + {{ sign }} * {{ mmr }}) as liquidation_price,
        o.{{ side }}_usd * t.weight as usd
    from open_positions as o
    inner join paths as x
        on x.date = o.date
        and x.asset = o.asset
        and x.hour_start = o.hour_start
    cross join tiers as t
    where x.{{ extreme }} is null
       or x.{{ extreme }} {{ alive }} o.entry_price * (1 + {{ sign }} / t.leverage) / (1 + {{ sign }} * {{ mmr }})
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

closes as (
    select
        a.date,
        a.asset,
        p.close_price,
        {{ levstress.round_significant('p.close_price * ' ~ var('cluster_band_pct') ~ ' / 100', 2) }} as band_width
    from as_of as a
    inner join prices as p
        on p.asset = a.asset
        and p.hour_start = a.last_hour
),

bands as (
    select
        l.date,
        l.asset,
        c.close_price,
        c.band_width,
        {#- rounded first: a level on a band edge must not fall into the band below by float noise -#}
        floor(round(l.liquidation_price / c.band_width, 6)) as band_index,
        sum(case when l.side = 'long' then l.usd else 0 end) as long_usd,
        sum(case when l.side = 'short' then l.usd else 0 end) as short_usd
    from levels as l
    inner join closes as c
        on c.date = l.date
        and c.asset = l.asset
    group by 1, 2, 3, 4, 5
),

sized as (
    select
        *,
        band_index * band_width as price_band_low,
        (band_index + 1) * band_width as price_band_high,
        sum(long_usd) over (partition by date, asset) as day_long_usd,
        sum(short_usd) over (partition by date, asset) as day_short_usd
    from bands
),

nearest as (
    select
        *,
        max(case when price_band_high <= close_price and long_usd >= {{ var('liq_map_large_share') }} * day_long_usd
            then price_band_low end) over (partition by date, asset) as nearest_long_band_low,
        min(case when price_band_low >= close_price and short_usd >= {{ var('liq_map_large_share') }} * day_short_usd
            then price_band_low end) over (partition by date, asset) as nearest_short_band_low
    from sized
)

select
    date,
    asset,
    cast(price_band_low as {{ double }}) as price_band_low,
    cast(price_band_high as {{ double }}) as price_band_high,
    long_usd as long_liquidation_usd,
    short_usd as short_liquidation_usd,
    close_price as price_close,
    100 * ({{ levstress.safe_divide('(price_band_low + price_band_high) / 2', 'close_price') }} - 1) as distance_from_close_pct,
    coalesce(price_band_low = nearest_long_band_low, false) as is_nearest_large_long_band,
    coalesce(price_band_low = nearest_short_band_low, false) as is_nearest_large_short_band
from nearest
where long_usd > 0 or short_usd > 0
