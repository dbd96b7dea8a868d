/* main.c: ctrlmap's entry point; everything else is in the command table (commands.c). */
#include "commands.h"

int main(int argc, char **argv)
{
  return pipe_main(argc, argv);
}
