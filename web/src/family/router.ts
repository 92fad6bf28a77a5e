import { createRouter, createWebHistory } from 'vue-router'
import { session } from '@/api/client'
import Home from './views/Home.vue'
import Login from './views/Login.vue'

// Only the first screen is in the main bundle; the others load when opened (a slow network).
export const router = createRouter({
  history: createWebHistory('/m/'),
  routes: [
    { path: '/login', name: 'login', component: Login, meta: { public: true } },
    { path: '/', name: 'home', component: Home },
    { path: '/schedule', name: 'schedule', component: () => import('./views/Schedule.vue') },
    { path: '/steps/:id', name: 'step', component: () => import('./views/Step.vue') },
    { path: '/inbox', name: 'inbox', component: () => import('./views/Inbox.vue') },
    { path: '/lessons', name: 'lessons', component: () => import('./views/Lessons.vue') },
    { path: '/lessons/:id', name: 'lesson', component: () => import('./views/Lesson.vue') },
    { path: '/me', name: 'me', component: () => import('./views/Me.vue') },
    { path: '/contraception', name: 'contraception', component: () => import('./views/Contraception.vue') },
    { path: '/benefits', name: 'benefits', component: () => import('./views/Benefits.vue') },
    { path: '/registration', name: 'registration', component: () => import('./views/Registration.vue') },
    { path: '/records', name: 'records', component: () => import('./views/Records.vue') },
    { path: '/privacy', name: 'privacy', component: () => import('./views/Privacy.vue') },
    { path: '/:rest(.*)', redirect: '/' },
  ],
})

router.beforeEach((to) => {
  if (!to.meta.public && !session.token) return { name: 'login' }
  return true
})
