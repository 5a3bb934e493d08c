{{ config(unique_key='date') }}
{#-
  Where liquidations are concentrated in price, as of each day's close: the liquidations of the
  trailing cluster_window_days (the day itself and the days before it; nothing after it) summed
  into price bands of cluster_band_pct % of the day's close, per asset over all exchanges.
  near_local_low marks bands within cluster_near_low_pct % of the trailing local low (the lowest
  hourly low of the same days).
-#}
{%- set window_days = var('cluster_window_days') | int -%}

with days as (
    select date, asset, price_close, low_price
    from {{ ref('int_prices_daily') }}
    where {{ levstress.input_window('date', window_days - 1) }}
      and price_close > 0
),

as_of as (
    select
        today.date,
        today.asset,
        today.price_close,
        min(earlier.low_price) as local_low_price,
        {#- A band width with two significant digits (BTC near $90k: $450), so bands have round edges. -#}
        {{ levstress.round_significant('today.price_close * ' ~ var('cluster_band_pct') ~ ' / 100', 2) }} as band_width
    from days as today
    inner join days as earlier
        on earlier.asset = today.asset
        and earlier.date > {{ dbt.dateadd('day', -window_days, 'today.date') }}
        and earlier.date <= today.date
    where {{ levstress.output_window('today.date') }}
    group by 1, 2, 3
),

priced as (
    select *
    from {{ ref('int_liquidations_priced') }}
    where {{ levstress.input_window('partition_date', window_days - 1) }}
),

banded as (
    select
        a.date,
        a.asset,
        a.price_close,
        a.local_low_price,
        a.band_width,
        {#- rounded first: a level on a band edge (0.1358 / 0.0007) must not fall into the band below by float noise -#}
        floor(round(p.price_level / a.band_width, 6)) as band_index,
        sum(p.long_liquidations_usd) as long_liquidations_usd,
        sum(p.short_liquidations_usd) as short_liquidations_usd
    from as_of as a
    inner join priced as p
        on p.asset = a.asset
        and p.partition_date > {{ dbt.dateadd('day', -window_days, 'a.date') }}
        and p.partition_date <= a.date
    group by 1, 2, 3, 4, 5, 6
),

bands as (
    select
        *,
        band_index * band_width as price_band_low,
        (band_index + 1) * band_width as price_band_high
    from banded
)

select
    date,
    asset,
    cast(price_band_low as {{ levstress.type_double() }}) as price_band_low,
    cast(price_band_high as {{ levstress.type_double() }}) as price_band_high,
    long_liquidations_usd,
    short_liquidations_usd,
    long_liquidations_usd + short_liquidations_usd as total_liquidations_usd,
    {{ levstress.safe_divide('long_liquidations_usd', 'long_liquidations_usd + short_liquidations_usd') }} as long_share,
    price_close,
    100 * ({{ levstress.safe_divide('(price_band_low + price_band_high) / 2', 'price_close') }} - 1) as distance_from_close_pct,
    local_low_price,
    100 * ({{ levstress.safe_divide('(price_band_low + price_band_high) / 2', 'local_low_price') }} - 1) as distance_from_local_low_pct,
    (price_band_low <= local_low_price * (1 + {{ var('cluster_near_low_pct') }} / 100.0)
        and price_band_high >= local_low_price * (1 - {{ var('cluster_near_low_pct') }} / 100.0)) as near_local_low
from bands
where long_liquidations_usd + short_liquidations_usd > 0
