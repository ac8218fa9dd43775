* Ranged rows on L, G and E rows, free / negative-lower-bound variables, mixed integer.
*   min 4 A - B + C + D - E
*   R1 (L, rhs 8,  range  5): 3 <= A + B + C     <= 8
*   R2 (G, rhs -2, range -6): -2 <= A - C + D    <= 4     (G row: [rhs, rhs + |R|])
*   R3 (E, rhs 3,  range  4): 3 <= 2 A + D + E   <= 7     (E row, R > 0: [rhs, rhs + R])
*   R4 (E, rhs 1,  range -3): -2 <= B + C - E    <= 1     (E row, R < 0: [rhs + R, rhs])
*   R5 (L): A - B <= 6
*   R6 (G): B + D >= -4
*   A integer free (FR); B continuous, MI (lower -inf, upper +inf);
*   C integer in [-3, 6]; D continuous, LO -2.5; E integer in [0, 5]
NAME          RANGEDFREE
ROWS
 N  COST
 L  R1
 G  R2
 E  R3
 E  R4
 L  R5
 G  R6
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    A         COST      4              R1        1
    A         R2        1              R3        2
    A         R5        1
    MARKER                 'MARKER'                 'INTEND'
    B         COST      -1             R1        1
    B         R4        1              R5        -1
    B         R6        1
    MARKER                 'MARKER'                 'INTORG'
    C         COST      1              R1        1
    C         R2        -1             R4        1
    MARKER                 'MARKER'                 'INTEND'
    D         COST      1              R2        1
    D         R3        1              R6        1
    MARKER                 'MARKER'                 'INTORG'
    E         COST      -1             R3        1
    E         R4        -1
    MARKER                 'MARKER'                 'INTEND'
RHS
    RHS       R1        8              R2        -2
    RHS       R3        3              R4        1
    RHS       R5        6              R6        -4
RANGES
    RNG       R1        5              R2        -6
    RNG       R3        4              R4        -3
BOUNDS
 FR BND       A
 MI BND       B
 LO BND       C         -3
 UP BND       C         6
 LO BND       D         -2.5
 LO BND       E         0
 UP BND       E         5
ENDATA
