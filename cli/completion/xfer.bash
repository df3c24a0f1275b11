# Bash completion for xfer: the verbs, then each verb's flags, file names otherwise. The verbs
# and flags are asked of the xfer being completed (`xfer __complete [VERB]`), so they are always
# those of the installed version. Installed as share/bash-completion/completions/xfer; or
# `source cli/completion/xfer.bash` by hand.
_xfer() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local xfer_bin=${COMP_WORDS[0]}
  if (( COMP_CWORD == 1 )); then
    mapfile -t COMPREPLY < <(compgen -W "$("$xfer_bin" __complete 2>/dev/null)" -- "$cur")
    return
  fi
  local verb=${COMP_WORDS[1]}
  if [[ $verb == help ]] && (( COMP_CWORD == 2 )); then
    mapfile -t COMPREPLY < <(compgen -W "$("$xfer_bin" __complete 2>/dev/null)" -- "$cur")
    return
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$("$xfer_bin" __complete "$verb" 2>/dev/null)" -- "$cur")
    return
  fi
  mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}
complete -o filenames -F _xfer xfer
