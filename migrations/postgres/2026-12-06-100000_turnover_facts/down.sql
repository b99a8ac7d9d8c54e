DROP TABLE turnover_facts;
