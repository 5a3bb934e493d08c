{{ stg_liquidation_events('binance_liquidations') }}
