{#-
  Open-interest observations of every venue, valued in USD. Venues that report only coins
  (Bybit) are valued at the reference close of the hour the observation falls in
  (usd_is_derived = true). Sources: macros/source_models.sql; where two have the same
  venue and hour (the live API and the data archive), the first registered one.
-#}

with observations as (
    {{ levstress.first_source_per_hour(
        'open_interest',
        ['exchange', 'asset', 'partition_date', 'observed_at', 'open_interest_coins', 'open_interest_usd']
    ) }}
),

prices as (
    select asset, hour_start, close_price
    from {{ ref('int_prices_hourly') }}
)

select
    o.exchange,
    o.asset,
    o.partition_date,
    o.observed_at,
    o.open_interest_coins,
    coalesce(o.open_interest_usd, o.open_interest_coins * p.close_price) as open_interest_usd,
    (o.open_interest_usd is null and p.close_price is not null) as usd_is_derived
from observations as o
left join prices as p
    on p.asset = o.asset
    and p.hour_start = {{ dbt.date_trunc('hour', 'o.observed_at') }}
where o.asset in {{ levstress.sql_list(var('tracked_assets')) }}
