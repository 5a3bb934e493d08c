{{ config(unique_key='date') }}
{#-
  Daily implied-volatility index per currency (Deribit DVOL: BTC, ETH): open / high / low /
  close of the UTC day and the change of the close against the previous calendar day.
-#}

with daily as (
    select *
    from {{ ref('int_volatility_daily') }}
    where {{ levstress.input_window('date', 1) }}
)

select
    today.date,
    today.asset as currency,
    today.dvol_open,
    today.dvol_high,
    today.dvol_low,
    today.dvol_close,
    today.dvol_close - yesterday.dvol_close as dvol_change_1d,
    100 * ({{ levstress.safe_divide('today.dvol_close', 'yesterday.dvol_close') }} - 1) as dvol_change_pct_1d,
    cast(today.hours_observed as integer) as hours_observed
from daily as today
left join daily as yesterday
    on yesterday.asset = today.asset
    and yesterday.date = {{ dbt.dateadd('day', -1, 'today.date') }}
where {{ levstress.output_window('today.date') }}
