{{ config(unique_key='date') }}
{#- windowed run appending to an existing table: history before min_date is in this table -#}
{%- set incremental_window = is_incremental() and levstress.is_windowed() -%}
{#-
  Daily funding per exchange and asset.
  funding_rate_8h = mean over the day's settlements of funding_rate * 8 / interval_hours.
  negative_funding_streak_days = consecutive calendar days up to and including this one with
  funding_rate_8h < 0 (0 when today >= 0; a day without settlements breaks the streak).
  A windowed run sees lookback_days of history; a streak reaching back to the first input day
  is continued from the streak already stored for the day before it.
-#}

with settlements as (
    select *
    from {{ ref('int_funding_normalised') }}
    where {{ levstress.input_window('partition_date') }}
),

daily as (
    select
        partition_date as date,
        exchange,
        asset,
        avg(funding_rate_8h) as funding_rate_8h
    from settlements
    group by 1, 2, 3
),

{{ levstress.negative_streak_ctes('daily', ['exchange', 'asset'], 'funding_rate_8h', incremental_window) }}

final as (
    select
        d.date,
        d.exchange,
        d.asset,
        d.funding_rate_8h,
        d.funding_rate_8h * 3 * 365 as funding_rate_annualized,
        {{ levstress.negative_streak_days(incremental_window) }} as negative_funding_streak_days
    from daily as d
    {{ levstress.negative_streak_joins('d', ['exchange', 'asset'], incremental_window) }}
)

select * from final
where {{ levstress.output_window('date') }}
