# cmake -DIN=file -DOUT=file.c -DSYMBOL=name -P embed_file.cmake
# Writes OUT defining `const char SYMBOL[]` (the bytes of IN, NUL-terminated) and
# `const unsigned long SYMBOL_len`, so a program can carry a text file without finding it at run time.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
get_filename_component(name "${IN}" NAME)
file(WRITE "${OUT}" "/* generated from ${name} by cmake/embed_file.cmake */\nconst char ${SYMBOL}[] = {\n${body}0x00};\nconst unsigned long ${SYMBOL}_len = ${len};\n")
