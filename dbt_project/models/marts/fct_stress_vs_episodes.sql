{{ config(unique_key='date') }}
{#-
  How today compares with past blow-ups: the day's liquidation total over every tracked exchange
  and asset, its stress, its place in our own earlier history, and its ratio to the closest
  published market-wide episodes that ended before it (ref_liquidation_episodes).

  Beside the totals, the market's leverage readings (open-interest change, funding, account
  long/short ratio; open-interest-weighted over the tracked assets, from fct_leverage_stress_daily)
  of the day and of each picked episode's day, computed the same way from our own data: where our
  history (the Binance archive reaches 2021-12-01) covers an episode, today's positioning can be
  read against it, not only today's liquidation total against a published one.

  Closeness is on a log scale, |ln(today / episode)|, so $100M is as close to $50M as to $200M.
  Only earlier days and earlier episodes are used (no look-ahead). Our totals cover five assets on
  four venues and are floors; the episodes are aggregator figures over the whole market, so a
  ratio compares orders of magnitude, not like for like.
-#}

with daily_liquidations as (
    {#- every earlier day is history for own_history_percentile: the whole table, one row per day -#}
    select
        date,
        sum(long_liquidations_usd) as long_liquidations_usd,
        sum(short_liquidations_usd) as short_liquidations_usd,
        sum(total_liquidations_usd) as total_liquidations_usd,
        count(distinct exchange) as exchanges_reporting
    from {{ ref('fct_liquidation_imbalance_daily') }}
    group by 1
),

days as (
    select *
    from daily_liquidations
    where {{ levstress.output_window('date') }}
),

daily_stress as (
    select
        date,
        max(stress_score) as max_stress_score,
        count(case when stress_level in ('high', 'extreme') then 1 end) as assets_high_or_extreme,
        count(case when is_pressure_cooker then 1 end) as assets_pressure_cooker,
        count(case when is_deleveraging then 1 end) as assets_deleveraging
    from {{ ref('fct_leverage_stress_daily') }}
    where {{ levstress.output_window('date') }}
    group by 1
),

{%- set readings = ['oi_change_pct_1d', 'funding_rate_8h', 'account_long_short_ratio'] %}

{%- set stress_columns = 'date, asset, open_interest_usd, ' ~ readings | join(', ') %}

reading_days as (
    {#- the run's days and the episodes' days (a union, not an OR with a subquery: Spark) -#}
    select {{ stress_columns }}
    from {{ ref('fct_leverage_stress_daily') }}
    where {{ levstress.output_window('date') }}
    union
    select {{ stress_columns }}
    from {{ ref('fct_leverage_stress_daily') }}
    where date in (select episode_date from {{ ref('ref_liquidation_episodes') }})
),

market_readings as (
    select
        date,
        {%- for reading in readings %}
        {{ levstress.safe_divide(
            'sum(' ~ reading ~ ' * open_interest_usd)',
            'sum(case when ' ~ reading ~ ' is not null then open_interest_usd end)') }} as {{ reading }}{{ "," if not loop.last }}
        {%- endfor %}
    from reading_days
    group by 1
),

own_history as (
    select
        d.date,
        count(h.date) as own_history_days,
        100 * {{ levstress.safe_divide(
            'sum(case when h.total_liquidations_usd < d.total_liquidations_usd then 1.0'
            ~ ' when h.total_liquidations_usd = d.total_liquidations_usd then 0.5 else 0 end)',
            'count(h.date)') }} as own_history_percentile,
        max(h.total_liquidations_usd) as own_max_before_usd
    from days as d
    left join daily_liquidations as h
        on h.date < d.date
    group by 1
),

past_episodes as (
    select
        d.date,
        e.episode_id,
        e.label,
        e.episode_date,
        e.total_liquidations_usd,
        d.total_liquidations_usd / e.total_liquidations_usd as ratio,
        row_number() over (
            partition by d.date
            order by abs(ln(d.total_liquidations_usd / e.total_liquidations_usd)), e.episode_date desc
        ) as closeness_rank,
        row_number() over (partition by d.date order by e.total_liquidations_usd desc) as size_rank,
        count(case when e.total_liquidations_usd < d.total_liquidations_usd then 1 end)
            over (partition by d.date) as episodes_exceeded
    from days as d
    inner join {{ ref('ref_liquidation_episodes') }} as e
        on e.end_date < d.date
        and e.scope = 'market_wide_24h'
    where d.total_liquidations_usd > 0
),

{%- set picks = {'closest': 'closeness_rank = 1', 'second_closest': 'closeness_rank = 2', 'largest': 'size_rank = 1'} %}

episode_picks as (
    select
        date,
        max(episodes_exceeded) as past_episodes_exceeded,
        {%- for name, rule in picks.items() %}
        max(case when {{ rule }} then episode_id end) as {{ name }}_episode_id,
        max(case when {{ rule }} then label end) as {{ name }}_episode_label,
        max(case when {{ rule }} then episode_date end) as {{ name }}_episode_date,
        max(case when {{ rule }} then total_liquidations_usd end) as {{ name }}_episode_total_usd,
        max(case when {{ rule }} then ratio end) as ratio_to_{{ name }}_episode{{ "," if not loop.last }}
        {%- endfor %}
    from past_episodes
    group by 1
)

select
    d.date,
    d.long_liquidations_usd,
    d.short_liquidations_usd,
    d.total_liquidations_usd,
    {{ levstress.safe_divide('d.long_liquidations_usd', 'd.total_liquidations_usd') }} as long_share,
    cast(d.exchanges_reporting as integer) as exchanges_reporting,
    s.max_stress_score,
    {{ levstress.stress_level('s.max_stress_score') }} as max_stress_level,
    cast(coalesce(s.assets_high_or_extreme, 0) as integer) as assets_high_or_extreme,
    cast(coalesce(s.assets_pressure_cooker, 0) as integer) as assets_pressure_cooker,
    cast(coalesce(s.assets_deleveraging, 0) as integer) as assets_deleveraging,
    {%- for reading in readings %}
    m.{{ reading }},
    {%- endfor %}
    cast(o.own_history_days as integer) as own_history_days,
    o.own_history_percentile,
    o.own_max_before_usd,
    {{ levstress.safe_divide('d.total_liquidations_usd', 'o.own_max_before_usd') }} as ratio_to_own_max_before,
    cast(coalesce(p.past_episodes_exceeded, 0) as integer) as past_episodes_exceeded,
    {%- for name in picks %}
    p.{{ name }}_episode_id,
    p.{{ name }}_episode_label,
    p.{{ name }}_episode_date,
    p.{{ name }}_episode_total_usd,
    p.ratio_to_{{ name }}_episode,
    {%- set outer = loop %}
    {%- for reading in readings %}
    {{ name }}_readings.{{ reading }} as {{ name }}_episode_{{ reading }}{{ "," if not (outer.last and loop.last) }}
    {%- endfor %}
    {%- endfor %}
from days as d
left join daily_stress as s on s.date = d.date
left join market_readings as m on m.date = d.date
left join own_history as o on o.date = d.date
left join episode_picks as p on p.date = d.date
{%- for name in picks %}
left join market_readings as {{ name }}_readings on {{ name }}_readings.date = p.{{ name }}_episode_date
{%- endfor %}
