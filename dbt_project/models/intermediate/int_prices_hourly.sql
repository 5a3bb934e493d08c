{#-
  Hourly reference price per asset: the 60-minute candles of the perpetual on
  var('reference_price_exchange') (binance by default). One row per asset and hour; where the
  venue's live API and its data archive both have an hour, the live API's candle
  (macros/source_models.sql, first_source_per_hour).
-#}

with candles as (
    {{ levstress.first_source_per_hour(
        'candles',
        ['exchange', 'asset', 'partition_date', 'open_time', 'interval_minutes',
         'open_price', 'high_price', 'low_price', 'close_price', 'volume_coins'],
        'open_time'
    ) }}
)

select
    asset,
    partition_date,
    open_time as hour_start,
    open_price,
    high_price,
    low_price,
    close_price,
    volume_coins
from candles
where exchange = '{{ var("reference_price_exchange") }}'
  and interval_minutes = 60
  and asset in {{ levstress.sql_list(var('tracked_assets')) }}
