{{ config(unique_key='date') }}
{#- windowed run appending to an existing table: history before min_date is in this table -#}
{%- set incremental_window = is_incremental() and levstress.is_windowed() -%}
{#-
  Daily leverage stress per asset, all exchanges together.

  1. Components (oriented so that higher = more stress): long_share, liquidations_to_oi,
     funding_rate_8h, oi_change_pct_1d, price compression (= -price_range_pct), DVOL where
     present (BTC, ETH) and crowded longs (the account long/short ratio) where a venue
     publishes positioning (docs/methodology.md: why and with what weight).
  2. Each component's z-score against the asset's trailing stress_window_days (90) days,
     current day excluded, with at least stress_min_history_days (30) days of that component;
     limited to [stress_component_floor, stress_z_clip] = [0, 4]. The floor of 0 makes the
     components one-sided: a reading below its normal level adds no stress and does not offset
     another that is above (otherwise a liquidation cascade, where OI falls and the range widens,
     would cancel itself out and read as calm).
  3. stress_composite = mean of the available component z-scores (NULL with fewer than
     stress_min_components).
  4. stress_score = percentile (0-100, mid-rank) of today's composite among the asset's
     composites of the trailing stress_window_days days (current excluded, >= 30 of them).
     A windowed run takes the earlier composites from this table, so a day-by-day build equals
     a full build.
  5. Flags compare with the trailing flag_window_days (30) days (>= flag_min_history_days,
     else false).
  6. negative_funding_streak_days: consecutive days with a negative open-interest-weighted
     funding_rate_8h (macros/negative_streak.sql, as in fct_funding_daily).
  7. liquidation_exchanges of expected_liquidation_exchanges: the coverage mart's liquidation
     series of the day, those not missing of all expected.
-#}
{%- set components = {
    'long_share': 'long_share',
    'liquidations_to_oi': 'liquidations_to_oi',
    'funding_rate_8h': 'funding_rate_8h',
    'oi_change_pct_1d': 'oi_change_pct_1d',
    'price_compression': '-1 * price_range_pct',
    'dvol': 'dvol_close',
    'crowded_longs': 'account_long_short_ratio',
} -%}
{%- set window_days = var('stress_window_days') | int -%}
{%- set min_history = var('stress_min_history_days') | int -%}
{%- set flag_days = var('flag_window_days') | int -%}
{%- set flag_min_history = var('flag_min_history_days') | int -%}
{%- if (var('lookback_days') | int) < window_days + 1 -%}
    {{ exceptions.raise_compiler_error("lookback_days (" ~ var('lookback_days') ~ ") must be >= stress_window_days + 1 (" ~ (window_days + 1) ~ ")") }}
{%- endif -%}
{%- set clip = var('stress_z_clip') -%}
{%- set floor = -1 * clip if var('stress_component_floor', none) is none else var('stress_component_floor') -%}

with inputs as (
    select
        *,
        {%- for name, expr in components.items() %}
        {{ expr }} as c_{{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int_leverage_stress_inputs_daily') }}
    where {{ levstress.input_window('date') }}
    {%- if var('history_start', none) is not none %}
      and date >= cast('{{ var("history_start") }}' as date)
    {%- endif %}
),

-- days whose composite is computed in this run
targets as (
    select *
    from inputs
    {%- if incremental_window %}
    where {{ levstress.output_window('date') }}
    {%- endif %}
),

history as (
    select
        t.date,
        t.asset,
        {%- for name in components %}
        avg(h.c_{{ name }}) as mean_{{ name }},
        stddev_samp(h.c_{{ name }}) as sd_{{ name }},
        count(h.c_{{ name }}) as n_{{ name }},
        {%- endfor %}
        count(case when h.date >= {{ dbt.dateadd('day', -flag_days, 't.date') }} then h.price_range_pct end) as n_flag_range,
        count(case when h.date >= {{ dbt.dateadd('day', -flag_days, 't.date') }} then h.total_liquidations_usd end) as n_flag_liquidations,
        percentile_cont({{ var('pressure_cooker_range_quantile') }}) within group (
            order by case when h.date >= {{ dbt.dateadd('day', -flag_days, 't.date') }} then h.price_range_pct end
        ) as flag_range_quantile,
        percentile_cont({{ var('pressure_cooker_liquidation_quantile') }}) within group (
            order by case when h.date >= {{ dbt.dateadd('day', -flag_days, 't.date') }} then h.total_liquidations_usd end
        ) as flag_liquidations_quantile
    from targets as t
    left join inputs as h
        on h.asset = t.asset
        and h.date >= {{ dbt.dateadd('day', -window_days, 't.date') }}
        and h.date < t.date
    group by 1, 2
),

z_scores as (
    select
        t.*,
        {%- for name in components %}
        case
            when hs.n_{{ name }} >= {{ min_history }} and hs.sd_{{ name }} > 0
                then greatest({{ floor }}, least({{ clip }}, (t.c_{{ name }} - hs.mean_{{ name }}) / hs.sd_{{ name }}))
        end as z_{{ name }},
        {%- endfor %}
        hs.n_flag_range,
        hs.n_flag_liquidations,
        hs.flag_range_quantile,
        hs.flag_liquidations_quantile
    from targets as t
    inner join history as hs
        on hs.date = t.date
        and hs.asset = t.asset
),

composites as (
    select
        *,
        case
            when (
                {%- for name in components %}
                case when z_{{ name }} is not null then 1 else 0 end{{ " +" if not loop.last }}
                {%- endfor %}
            ) >= {{ var('stress_min_components') }}
            then (
                {%- for name in components %}
                coalesce(z_{{ name }}, 0){{ " +" if not loop.last }}
                {%- endfor %}
            ) / (
                {%- for name in components %}
                case when z_{{ name }} is not null then 1 else 0 end{{ " +" if not loop.last }}
                {%- endfor %}
            )
        end as stress_composite
    from z_scores
),

composite_history as (
    select date, asset, stress_composite
    from composites
    {%- if incremental_window %}
    union all
    select date, asset, stress_composite
    from {{ this }}
    where date >= {{ dbt.dateadd('day', -window_days, levstress.window_start()) }}
      and date < {{ levstress.window_start() }}
    {%- endif %}
),

scores as (
    select
        c.date,
        c.asset,
        {{ levstress.mid_rank_percentile('c.stress_composite', 'h.stress_composite', min_history) }} as stress_score,
        count(h.stress_composite) as stress_history_days
    from composites as c
    left join composite_history as h
        on h.asset = c.asset
        and h.date >= {{ dbt.dateadd('day', -window_days, 'c.date') }}
        and h.date < c.date
    group by c.date, c.asset, c.stress_composite
),

-- how many of the exchanges expected to report liquidations did (a venue that was unavailable
-- is a coverage row 'missing', not a zero), so a total over exchanges says whether it is whole
liquidation_exchanges as (
    select
        date,
        asset,
        count(distinct case when coverage_level <> 'missing' then exchange end) as liquidation_exchanges,
        count(distinct exchange) as expected_liquidation_exchanges
    from {{ ref('fct_source_coverage_daily') }}
    where dataset = 'liquidations'
      and {{ levstress.output_window('date') }}
    group by 1, 2
),

{{ levstress.negative_streak_ctes('inputs', ['asset'], 'funding_rate_8h', incremental_window) }}

final as (
    select
        c.date,
        c.asset,
        c.long_liquidations_usd,
        c.short_liquidations_usd,
        c.long_share,
        c.funding_rate_8h,
        c.open_interest_usd,
        c.oi_change_pct_1d,
        c.price_close,
        c.price_range_pct,
        c.liquidations_to_oi,
        cast(sc.stress_score as {{ levstress.type_double() }}) as stress_score,
        cast(sc.stress_history_days as integer) as stress_history_days,
        {{ levstress.stress_level('sc.stress_score') }} as stress_level,
        coalesce(
            c.n_flag_range >= {{ flag_min_history }}
            and c.n_flag_liquidations >= {{ flag_min_history }}
            and c.price_range_pct < c.flag_range_quantile
            and c.total_liquidations_usd > c.flag_liquidations_quantile,
            false
        ) as is_pressure_cooker,
        coalesce(
            c.oi_change_pct_1d < {{ var('deleveraging_oi_change_pct') }}
            and c.n_flag_liquidations >= {{ flag_min_history }}
            and c.total_liquidations_usd > c.flag_liquidations_quantile,
            false
        ) as is_deleveraging,
        c.total_liquidations_usd,
        c.dvol_close,
        c.stress_composite,
        {{ levstress.negative_streak_days(incremental_window) }} as negative_funding_streak_days,
        c.complete_exchange_share,
        c.account_long_short_ratio,
        cast(coalesce(le.liquidation_exchanges, 0) as integer) as liquidation_exchanges,
        cast(coalesce(le.expected_liquidation_exchanges, 0) as integer) as expected_liquidation_exchanges
    from composites as c
    inner join scores as sc
        on sc.date = c.date
        and sc.asset = c.asset
    left join liquidation_exchanges as le
        on le.date = c.date
        and le.asset = c.asset
    {{ levstress.negative_streak_joins('c', ['asset'], incremental_window) }}
)

select * from final
where {{ levstress.output_window('date') }}
