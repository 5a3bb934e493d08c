{#-
  Liquidated USD per exchange, asset, UTC day and price level: where in price the liquidations
  happened, the input of the cluster mart.

  * Event tapes: the event's own price (the fill / bankruptcy price the venue reports), rounded
    to 5 significant digits (BTC near $90k: $1 steps) so that a day is a few hundred rows, not
    one row per event.
  * Aggregator buckets (venues without a tape of their own, e.g. Hyperliquid via Coinalyze):
    no price is published, so each hourly bucket is placed at its hour's typical price
    (high + low + close) / 3 of the reference candle. price_basis says which.
  The same exchange-day priority as the hourly totals applies (int_liquidations_bucketed_to_hour
  decides), so the clusters and the hourly mart add up to the same USD.
-#}
{%- set event_models = levstress.liquidation_event_models() -%}

with chosen_source as (
    select distinct exchange, partition_date, source_kind
    from {{ ref('int_liquidations_bucketed_to_hour') }}
),

events as (
    {% for model in event_models %}
    select
        exchange,
        asset,
        partition_date,
        price,
        case when side = 'long' then usd_value else 0 end as long_usd,
        case when side = 'short' then usd_value else 0 end as short_usd
    from {{ ref(model) }}
    where price > 0
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

event_levels as (
    select
        e.exchange,
        e.asset,
        e.partition_date,
        'event_price' as price_basis,
        {{ levstress.round_significant('e.price', 5) }} as price_level,
        e.long_usd,
        e.short_usd
    from events as e
    inner join chosen_source as c
        on c.exchange = e.exchange
        and c.partition_date = e.partition_date
        and c.source_kind = 'event_tape'
    where e.asset in {{ levstress.sql_list(var('tracked_assets')) }}
),

bucket_levels as (
    select
        b.exchange,
        b.asset,
        b.partition_date,
        'hour_typical_price' as price_basis,
        {{ levstress.round_significant('(p.high_price + p.low_price + p.close_price) / 3', 5) }} as price_level,
        b.long_liquidations_usd as long_usd,
        b.short_liquidations_usd as short_usd
    from {{ ref('int_liquidations_bucketed_to_hour') }} as b
    inner join {{ ref('int_prices_hourly') }} as p
        on p.asset = b.asset
        and p.hour_start = b.hour_start
    where b.source_kind = 'aggregator'
)

select
    exchange,
    asset,
    partition_date,
    price_basis,
    price_level,
    sum(long_usd) as long_liquidations_usd,
    sum(short_usd) as short_liquidations_usd
from (
    select * from event_levels
    union all
    select * from bucket_levels
) as levels
group by 1, 2, 3, 4, 5
