{#-
  Daily price summary per asset from the hourly reference candles (UTC day):
  close of the day's last candle, high / low over the day, and
  price_range_pct = 100 * (high - low) / close.
-#}
with hourly as (
    select
        *,
        row_number() over (partition by asset, partition_date order by hour_start desc) as rank_from_last
    from {{ ref('int_prices_hourly') }}
),

daily as (
    select
        asset,
        partition_date as date,
        max(high_price) as high_price,
        min(low_price) as low_price,
        max(case when rank_from_last = 1 then close_price end) as price_close,
        count(*) as hours_observed
    from hourly
    group by 1, 2
)

select
    date,
    asset,
    price_close,
    high_price,
    low_price,
    100 * {{ levstress.safe_divide('high_price - low_price', 'price_close') }} as price_range_pct,
    hours_observed
from daily
