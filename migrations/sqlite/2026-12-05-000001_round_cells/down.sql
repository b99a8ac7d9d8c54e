DROP TABLE round_cells;
