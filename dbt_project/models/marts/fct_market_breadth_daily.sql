{{ config(unique_key='date') }}
{#- Daily breadth of the tracked coin universe (~50 largest coins), from fct_market_cap_daily. -#}

with caps as (
    select *
    from {{ ref('fct_market_cap_daily') }}
    where {{ levstress.output_window('date') }}
)

select
    date,
    sum(market_cap_usd) as total_market_cap_usd,
    100 * {{ levstress.safe_divide(
        "sum(case when coin_id = '" ~ var('btc_coin_id') ~ "' then market_cap_usd end)",
        'sum(market_cap_usd)') }} as btc_dominance_pct,
    {{ levstress.safe_divide(
        "sum(case when cap_tier = 'large' and market_cap_change_pct_1d < 0 then 1 else 0 end)",
        "sum(case when cap_tier = 'large' and market_cap_change_pct_1d is not null then 1 else 0 end)") }}
        as large_caps_negative_share,
    cast(sum(case when market_cap_change_pct_1d > 0 then 1 else 0 end) as integer) as advancers,
    cast(sum(case when market_cap_change_pct_1d < 0 then 1 else 0 end) as integer) as decliners
from caps
group by date
