{#-
  Date spine test. Fails with one row per (group, missing date) when
    * a day between the table's first and last date has no rows at all, or
    * a group listed in expected_values (e.g. the tracked assets) is missing on a day that the
      table has, or
    * a group present in the table skips a day between its own first and last date.
-#}
{% test no_date_gaps(model, column_name, group_by=none, expected_values=none) %}
with present as (
    select distinct
        {{ column_name }} as day,
        {{ group_by if group_by else "'all'" }} as grp
    from {{ model }}
),

days as (
    select distinct day from present
),

day_steps as (
    select
        day,
        lag(day) over (order by day) as previous_day
    from days
),

calendar_gaps as (
    select 'gap before this day' as grp, day
    from day_steps
    where previous_day is not null
      and {{ dbt.datediff('previous_day', 'day', 'day') }} > 1
),

groups as (
    select distinct grp from present
    {%- if expected_values %}
    union
    select grp from ({{ levstress.values_relation(expected_values, 'grp') }}) as expected
    {%- endif %}
),

group_bounds as (
    select grp, min(day) as first_day, max(day) as last_day
    from present
    group by grp
),

missing as (
    select g.grp, d.day as day
    from groups as g
    cross join days as d
    left join group_bounds as b on b.grp = g.grp
    left join present as p on p.grp = g.grp and p.day = d.day
    where p.day is null
      and (
          {{ 'true' if expected_values else 'false' }} and g.grp in {{ levstress.sql_list(expected_values or ['']) }}
          or (d.day > b.first_day and d.day < b.last_day)
      )
)

select * from calendar_gaps
union all
select * from missing
{% endtest %}
