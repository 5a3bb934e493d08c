{{ config(unique_key='date') }}
{#-
  Daily market cap per coin (the ~50 largest coins CoinGecko returns). date = the UTC day whose
  close the snapshot is. Ranks, tiers and dominance are computed among these coins only.
-#}

with snapshots as (
    select *
    from {{ ref('stg_coingecko__market_caps') }}
    where {{ levstress.input_window('partition_date', 1) }}
),

latest as (
    select
        *,
        row_number() over (partition by coin_id, partition_date order by observed_at desc) as rank_from_last
    from snapshots
),

daily as (
    select
        partition_date as date,
        coin_id,
        symbol,
        market_cap_usd,
        price_usd
    from latest
    where rank_from_last = 1
),

current_window as (
    select
        today.date,
        today.coin_id,
        today.symbol,
        today.market_cap_usd,
        today.price_usd,
        100 * ({{ levstress.safe_divide('today.market_cap_usd', 'yesterday.market_cap_usd') }} - 1) as market_cap_change_pct_1d
    from daily as today
    left join daily as yesterday
        on yesterday.coin_id = today.coin_id
        and yesterday.date = {{ dbt.dateadd('day', -1, 'today.date') }}
    where {{ levstress.output_window('today.date') }}
)

select
    date,
    coin_id,
    symbol,
    market_cap_usd,
    price_usd,
    market_cap_change_pct_1d,
    cast(rank() over (partition by date order by market_cap_usd desc) as integer) as market_cap_rank,
    case
        when market_cap_usd >= {{ var('cap_tier_large_usd') }} then 'large'
        when market_cap_usd >= {{ var('cap_tier_mid_usd') }} then 'mid'
        else 'small'
    end as cap_tier,
    100 * market_cap_usd / sum(market_cap_usd) over (partition by date) as dominance_pct
from current_window
