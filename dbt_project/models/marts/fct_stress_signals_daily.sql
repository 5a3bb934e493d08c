{{ config(unique_key='date') }}
{#-
  What the event study (fct_stress_event_study) scores, per asset and day, each value known at the
  end of its day (docs/methodology.md, "Does the score work?"):
    stress_score        the leverage stress score (fct_leverage_stress_daily)
    funding_score       the day's funding_rate_8h as a mid-rank percentile (0-100) among the
                        asset's stress_window_days (90) earlier days, with >= stress_min_history_days
    oi_change_score     oi_change_pct_1d, likewise
    liquidations_score  long_liquidations_usd, likewise: persistence (today's long flush as the
                        warning of the next; events cluster)
    realized_vol_score  realised volatility (realized_vol_pct: stddev of the day's hourly log
                        returns of the reference price x sqrt(24), in %), likewise
    random_score        a number in [0, 100) from the date and the asset alone (uniform, no
                        serial correlation to speak of): the no-skill baseline; as the other
                        scores are percentiles, its alert rate at a threshold is about theirs
  is_long_liquidation_event: the asset's long liquidations of the day (all venues) exceed
  event_quantile (95 %) of its earlier days' (all of them, >= event_min_history_days), so what an
  event is never depends on later days.
-#}
{%- set window_days = var('stress_window_days') | int -%}
{%- set min_history = var('stress_min_history_days') | int -%}
{%- set baselines = {
    'funding': 'funding_rate_8h',
    'oi_change': 'oi_change_pct_1d',
    'liquidations': 'long_liquidations_usd',
    'realized_vol': 'realized_vol_pct',
} -%}

with stress as (
    select date, asset, stress_score, long_liquidations_usd, funding_rate_8h, oi_change_pct_1d
    from {{ ref('fct_leverage_stress_daily') }}
    {%- if levstress.is_windowed() %}
    where date < {{ levstress.window_end() }}
    {%- endif %}
),

hourly_returns as (
    select
        asset,
        partition_date as date,
        ln(close_price / lag(close_price) over (partition by asset, partition_date order by hour_start)) as log_return
    from {{ ref('int_prices_hourly') }}
    where {{ levstress.input_window('partition_date', window_days) }}
),

realized_vol as (
    select asset, date, stddev_samp(log_return) * sqrt(24) * 100 as realized_vol_pct
    from hourly_returns
    group by 1, 2
),

days as (
    select s.*, v.realized_vol_pct
    from stress as s
    left join realized_vol as v
        on v.asset = s.asset
        and v.date = s.date
),

{%- set day_number = dbt.datediff("cast('1970-01-01' as date)", 'date', 'day') %}
{%- set asset_number -%}
    case asset {% for asset in var('tracked_assets') %}when '{{ asset }}' then {{ loop.index }} {% endfor %}else 0 end
{%- endset %}

-- with the seed of the day's random score: a linear congruential step here, a square and another
-- step in `final` (31-bit integers: no overflow, and the same number on every engine; the square
-- breaks the lattice consecutive days would form)
targets as (
    select
        *,
        (cast({{ day_number }} as bigint) * 1103515245 + {{ asset_number }} * 12345 + 12345) % 2147483648 as seed
    from days
    where {{ levstress.output_window('date') }}
),

baseline_scores as (
    select
        t.date,
        t.asset,
        {%- for name, column in baselines.items() %}
        {{ levstress.mid_rank_percentile('t.' ~ column, 'h.' ~ column, min_history) }} as {{ name }}_score{{ "," if not loop.last }}
        {%- endfor %}
    from targets as t
    left join days as h
        on h.asset = t.asset
        and h.date >= {{ dbt.dateadd('day', -window_days, 't.date') }}
        and h.date < t.date
    group by t.date, t.asset{% for column in baselines.values() %}, t.{{ column }}{% endfor %}
),

events as (
    select
        t.date,
        t.asset,
        count(h.long_liquidations_usd) as earlier_days,
        sum(case when h.long_liquidations_usd < t.long_liquidations_usd then 1 else 0 end) as earlier_days_below
    from targets as t
    left join stress as h
        on h.asset = t.asset
        and h.date < t.date
    group by 1, 2
),

final as (
    select
        t.date,
        t.asset,
        cast(t.stress_score as {{ levstress.type_double() }}) as stress_score,
        {%- for name in baselines %}
        cast(b.{{ name }}_score as {{ levstress.type_double() }}) as {{ name }}_score,
        {%- endfor %}
        cast(100 * ((((t.seed * t.seed + 7) % 2147483647) * 1103515245 + 12345) % 2147483648)
            as {{ levstress.type_double() }}) / 2147483648 as random_score,
        t.long_liquidations_usd,
        t.funding_rate_8h,
        t.oi_change_pct_1d,
        t.realized_vol_pct,
        cast(e.earlier_days as integer) as event_history_days,
        coalesce(
            e.earlier_days >= {{ var('event_min_history_days') }}
            and t.long_liquidations_usd > 0
            and e.earlier_days_below >= {{ var('event_quantile') }} * e.earlier_days,
            false
        ) as is_long_liquidation_event
    from targets as t
    inner join baseline_scores as b
        on b.date = t.date
        and b.asset = t.asset
    inner join events as e
        on e.date = t.date
        and e.asset = t.asset
)

select * from final
