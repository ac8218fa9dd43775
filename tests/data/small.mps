NAME          small
OBJSENSE
    MAX
ROWS
 N  obj
 L  cap1
 L  cap2
 G  cover
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    x1        obj       5.0        cap1      2.0
    x1        cap2      4.0        cover     1.0
    x2        obj       4.0        cap1      3.0
    x2        cap2      1.0        cover     1.0
    x3        obj       3.0        cap1      1.0
    x3        cap2      2.0
    MARKER                 'MARKER'                 'INTEND'
    y         obj       0.5        cap2      1.0
RHS
    rhs       cap1      5.0        cap2      11.0
    rhs       cover     1.0
BOUNDS
 UP bnd       x1        3
 UP bnd       x2        3
 UP bnd       x3        3
 UP bnd       y         1.5
ENDATA
