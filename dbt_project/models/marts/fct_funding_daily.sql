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

negative_days as (
    select
        date,
        exchange,
        asset,
        {{ dbt.datediff("cast('1970-01-01' as date)", 'date', 'day') }}
            - row_number() over (partition by exchange, asset order by date) as island
    from daily
    where funding_rate_8h < 0
),

streaks as (
    select
        date,
        exchange,
        asset,
        row_number() over (partition by exchange, asset, island order by date) as streak_in_input,
        min(date) over (partition by exchange, asset, island) as streak_first_day
    from negative_days
),

{% if incremental_window %}
carried as (
    -- streak already stored for the day before the first input day
    select exchange, asset, negative_funding_streak_days
    from {{ this }}
    where date = {{ dbt.dateadd('day', -1, levstress.input_start()) }}
),
{% endif %}

final as (
    select
        d.date,
        d.exchange,
        d.asset,
        d.funding_rate_8h,
        d.funding_rate_8h * 3 * 365 as funding_rate_annualized,
        cast(
            coalesce(s.streak_in_input, 0)
            {% if incremental_window %}
            + case
                when s.streak_first_day = {{ levstress.input_start() }}
                    then coalesce(c.negative_funding_streak_days, 0)
                else 0
              end
            {% endif %}
            as integer
        ) as negative_funding_streak_days
    from daily as d
    left join streaks as s
        on s.date = d.date and s.exchange = d.exchange and s.asset = d.asset
    {% if incremental_window %}
    left join carried as c
        on c.exchange = d.exchange and c.asset = d.asset
    {% endif %}
)

select * from final
where {{ levstress.output_window('date') }}
