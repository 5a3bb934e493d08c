{{ config(unique_key='date') }}
{#- Daily long/short liquidation imbalance per exchange and asset, from the hourly mart. -#}

with hourly as (
    select *
    from {{ ref('fct_liquidations_hourly') }}
    where {{ levstress.output_window('date') }}
),

daily as (
    select
        date,
        exchange,
        asset,
        sum(long_liquidations_usd) as long_liquidations_usd,
        sum(short_liquidations_usd) as short_liquidations_usd,
        sum(total_liquidations_usd) as total_liquidations_usd,
        max(long_liquidations_usd) as peak_hour_long_usd,
        max(short_liquidations_usd) as peak_hour_short_usd,
        cast(sum(case when is_spike then 1 else 0 end) as integer) as spike_hours,
        min(coverage_level) as coverage_level
    from hourly
    group by 1, 2, 3
)

select
    date,
    exchange,
    asset,
    long_liquidations_usd,
    short_liquidations_usd,
    total_liquidations_usd,
    {{ levstress.safe_divide('long_liquidations_usd', 'total_liquidations_usd') }} as long_share,
    {{ levstress.safe_divide('long_liquidations_usd', 'short_liquidations_usd') }} as imbalance_ratio,
    long_liquidations_usd - short_liquidations_usd as net_liquidations_usd,
    peak_hour_long_usd,
    peak_hour_short_usd,
    spike_hours,
    coverage_level
from daily
