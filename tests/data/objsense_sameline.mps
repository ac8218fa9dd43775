* OBJSENSE and MAXIMIZE on one line (HiGHS's reader alone would minimise this).
*   max 7 P + 5 Q + 2 S
*   K1: 3 P + 2 Q +   S <= 10
*   K2:   P + 2 Q + 3 S <= 9
*   P, Q integer in [0, 3]; S continuous in [0, 2]
NAME          SAMELINE
OBJSENSE MAXIMIZE
ROWS
 N  VALUE
 L  K1
 L  K2
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    P         VALUE     7              K1        3
    P         K2        1
    Q         VALUE     5              K1        2
    Q         K2        2
    MARKER                 'MARKER'                 'INTEND'
    S         VALUE     2              K1        1
    S         K2        3
RHS
    RHS       K1        10             K2        9
BOUNDS
 UP BND       P         3
 UP BND       Q         3
 UP BND       S         2
ENDATA
