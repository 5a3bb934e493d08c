{{ config(unique_key='date') }}
{#-
  Is the estimated map right? For each asset, the map of liq_map_validation_days (3) days before
  `date` against the long liquidations that then happened, in the days after the map up to
  `date` (so a row reads nothing after its date): the share of their USD at prices inside the
  map's liq_map_validation_bands (5) largest long bands, against two baselines of as many bands:
  the bands nearest below the close (distance only), and the map's range spread uniformly (the
  share inside the mapped long bands x 5 / their number). Long bands only: below the map day's
  close, with estimated longs.
-#}
{%- set horizon = var('liq_map_validation_days') | int -%}
{%- set top = var('liq_map_validation_bands') | int -%}

{#- A price is placed in a band by the band's index, computed as the map computes it (the same
    width from the close, rounded before the floor): comparing with the bands' edges would put a
    price on an edge in either band, by float noise that differs between engines. -#}
{%- set band_width = levstress.round_significant('price_close * ' ~ var('cluster_band_pct') ~ ' / 100', 2) %}

with maps as (
    select
        date as map_date,
        asset,
        price_band_low,
        long_liquidation_usd,
        {{ band_width }} as band_width,
        floor(round(price_band_low / {{ band_width }}, 6)) as band_index
    from {{ ref('fct_estimated_liquidation_levels') }}
    where {{ levstress.input_window('date', horizon) }}
      and long_liquidation_usd > 0
      and price_band_high <= price_close
),

ranked as (
    select
        *,
        -- whole dollars: bands equal but for float noise rank by price, on every engine
        row_number() over (
            partition by map_date, asset order by round(long_liquidation_usd, 0) desc, band_index desc
        ) as size_rank,
        row_number() over (partition by map_date, asset order by band_index desc) as distance_rank,
        count(*) over (partition by map_date, asset) as mapped_bands
    from maps
),

-- only days the warehouse has (a later row would hold part of its days, and stay so)
evaluations as (
    select *
    from (
        select distinct
            map_date,
            cast({{ dbt.dateadd('day', horizon, 'map_date') }} as date) as date,
            asset,
            mapped_bands,
            band_width
        from ranked
    ) as candidates
    where date <= (select max(map_date) from maps)
),

-- filtered on its own partition key, so that the view below reads only these days
priced as (
    select *
    from {{ ref('int_liquidations_priced') }}
    where {{ levstress.input_window('partition_date', horizon) }}
      and long_liquidations_usd > 0
),

realised as (
    select e.date, e.asset, e.map_date, e.mapped_bands, r.exchange, r.partition_date, r.price_basis, r.price_level,
           floor(round(r.price_level / e.band_width, 6)) as band_index, r.long_liquidations_usd as usd
    from evaluations as e
    inner join priced as r
        on r.asset = e.asset
        and r.partition_date > e.map_date
        and r.partition_date <= e.date
    where {{ levstress.output_window('e.date') }}
),

matched as (
    select
        r.date,
        r.asset,
        r.map_date,
        r.mapped_bands,
        r.usd,
        case when b.size_rank <= {{ top }} then 1 else 0 end as in_largest,
        case when b.distance_rank <= {{ top }} then 1 else 0 end as in_nearest,
        case when b.asset is not null then 1 else 0 end as in_mapped
    from realised as r
    left join ranked as b
        on b.map_date = r.map_date
        and b.asset = r.asset
        and b.band_index = r.band_index
)

select
    date,
    asset,
    map_date,
    cast(mapped_bands as integer) as mapped_bands,
    sum(usd) as realised_long_usd,
    {{ levstress.safe_divide('sum(usd * in_largest)', 'sum(usd)') }} as largest_bands_share,
    {{ levstress.safe_divide('sum(usd * in_nearest)', 'sum(usd)') }} as nearest_bands_share,
    {{ levstress.safe_divide('sum(usd * in_mapped)', 'sum(usd)') }}
        * least({{ top }}, mapped_bands) / mapped_bands as uniform_share
from matched
group by date, asset, map_date, mapped_bands
