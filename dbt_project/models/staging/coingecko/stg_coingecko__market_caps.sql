{{ stg_market_caps('coingecko_market_caps') }}
