{{ config(unique_key='date') }}
{#-
  Daily positioning per exchange and asset (int_positioning_hourly):
    <measure>_close        the day's last hourly reading
    <measure>_mean         the mean of the day's hourly readings
    <measure>_change_pct_1d  100 * (close / previous calendar day's close - 1)
    <measure>_percentile   mid-rank (0-100) of the close among the closes of the trailing
                           stress_window_days days, this day excluded (no look-ahead); NULL with
                           fewer than stress_min_history_days of them
  for the account ratio, the top traders' position ratio and the taker buy/sell ratio; the top
  traders' account ratio is kept as close and mean. A windowed run reads lookback_days of input
  before its window, so its percentiles equal a full build's.
-#}
{%- set ranked = ['account_ratio', 'top_position_ratio', 'taker_buy_sell_ratio'] -%}
{%- set measures = ranked + ['top_account_ratio'] -%}
{%- set window_days = var('stress_window_days') | int -%}
{%- set min_history = var('stress_min_history_days') | int -%}

with hourly as (
    select *
    from {{ ref('int_positioning_hourly') }}
    where {{ levstress.input_window('partition_date') }}
),

daily as (
    select
        partition_date as date,
        exchange,
        asset,
        {%- for m in measures %}
        avg({{ m }}) as {{ m }}_mean,
        {%- endfor %}
        count(*) as hours_observed
    from hourly
    group by partition_date, exchange, asset
),

last_readings as (
    select
        partition_date as date,
        exchange,
        asset,
        {%- for m in measures %}
        {{ levstress.last_value_by(m, 'hour_start') }} as {{ m }}_close{{ "," if not loop.last }}
        {%- endfor %}
    from hourly
    group by partition_date, exchange, asset
),

days as (
    select d.*, {% for m in measures %}l.{{ m }}_close{{ ", " if not loop.last }}{% endfor %}
    from daily as d
    inner join last_readings as l
        on l.date = d.date and l.exchange = d.exchange and l.asset = d.asset
)

select
    today.date,
    today.exchange,
    today.asset,
    {%- for m in measures %}
    today.{{ m }}_close,
    today.{{ m }}_mean,
    {%- endfor %}
    {%- for m in ranked %}
    100 * ({{ levstress.safe_divide('today.' ~ m ~ '_close', 'max(yesterday.' ~ m ~ '_close)') }} - 1) as {{ m }}_change_pct_1d,
    case
        when today.{{ m }}_close is not null and count(history.{{ m }}_close) >= {{ min_history }}
        then 100 * cast(
            sum(case when history.{{ m }}_close < today.{{ m }}_close then 1 else 0 end)
            + 0.5 * sum(case when history.{{ m }}_close = today.{{ m }}_close then 1 else 0 end)
            as {{ levstress.type_double() }}
        ) / count(history.{{ m }}_close)
    end as {{ m }}_percentile,
    {%- endfor %}
    count(history.date) as history_days,
    today.hours_observed
from days as today
left join days as history
    on history.exchange = today.exchange
    and history.asset = today.asset
    and history.date >= {{ dbt.dateadd('day', -window_days, 'today.date') }}
    and history.date < today.date
left join days as yesterday
    on yesterday.exchange = today.exchange
    and yesterday.asset = today.asset
    and yesterday.date = {{ dbt.dateadd('day', -1, 'today.date') }}
where {{ levstress.output_window('today.date') }}
group by
    today.date, today.exchange, today.asset, today.hours_observed
    {%- for m in measures %}, today.{{ m }}_close, today.{{ m }}_mean{% endfor %}
