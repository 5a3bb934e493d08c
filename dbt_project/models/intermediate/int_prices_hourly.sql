{#-
  Hourly reference price per asset: the 60-minute candles of the perpetual on
  var('reference_price_exchange') (binance by default). One row per asset and hour.
-#}
{%- set candle_models = levstress.source_model_names('candles') -%}

with candles as (
    {% for model in candle_models %}
    select exchange, asset, partition_date, open_time, interval_minutes,
           open_price, high_price, low_price, close_price, volume_coins
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
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
