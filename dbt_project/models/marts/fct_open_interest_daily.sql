{{ config(unique_key='date') }}
{#-
  End-of-day open interest per exchange and asset: the day's last observation with a USD value
  (Bybit's coin figures valued at the reference close of their hour).
  oi_change_pct_1d = 100 * (today / previous calendar day - 1); NULL without the previous day.
-#}

with observations as (
    select *
    from {{ ref('int_open_interest_hourly') }}
    where {{ levstress.input_window('partition_date', 1) }}
      and open_interest_usd is not null
),

ranked as (
    select
        *,
        row_number() over (
            partition by exchange, asset, partition_date
            order by observed_at desc
        ) as rank_from_last
    from observations
),

end_of_day as (
    select
        partition_date as date,
        exchange,
        asset,
        open_interest_usd
    from ranked
    where rank_from_last = 1
)

select
    today.date,
    today.exchange,
    today.asset,
    today.open_interest_usd,
    100 * ({{ levstress.safe_divide('today.open_interest_usd', 'yesterday.open_interest_usd') }} - 1) as oi_change_pct_1d
from end_of_day as today
left join end_of_day as yesterday
    on yesterday.exchange = today.exchange
    and yesterday.asset = today.asset
    and yesterday.date = {{ dbt.dateadd('day', -1, 'today.date') }}
where {{ levstress.output_window('today.date') }}
