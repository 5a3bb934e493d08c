{#-
  Every settled funding rate, normalised to an 8-hour interval:
      funding_rate_8h = funding_rate * 8 / interval_hours
  Venues settle every 8 h, 4 h or 1 h (and change it over time); averaging raw rates across
  intervals is a classic bug. Sources: macros/source_models.sql; where two have the same venue
  and settlement hour (Binance's live API and its data archive), the first registered one.
-#}

with settlements as (
    {{ levstress.first_source_per_hour(
        'funding_rates',
        ['exchange', 'asset', 'symbol', 'partition_date', 'funding_time', 'funding_rate', 'interval_hours'],
        'funding_time'
    ) }}
)

select
    exchange,
    asset,
    symbol,
    partition_date,
    funding_time,
    funding_rate,
    interval_hours,
    funding_rate * 8 / interval_hours as funding_rate_8h
from settlements
where asset in {{ levstress.sql_list(var('tracked_assets')) }}
