{{ stg_funding_rates('binance_funding') }}
